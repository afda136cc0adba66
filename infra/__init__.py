"""The pipeline's CDK v2 app: the stack dlqctl manages, built from dlqctl.pipeline.spec."""
