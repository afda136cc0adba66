"""The stack's parts, one construct per concern, composed by infra.stacks.pipeline_stack."""
