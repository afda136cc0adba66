"""Stack outputs: the keys `dlqctl config import-stack` reads, from the shared spec."""

from __future__ import annotations

from dlqctl.pipeline import spec
from tests.infra.conftest import Synthesized

OUTPUT_KEYS = {value for name, value in vars(spec).items() if name.startswith("OUTPUT_")}


def test_outputs_use_exactly_the_spec_keys(synthesized: Synthesized, env: str) -> None:
    outputs = synthesized.raw(env)["Outputs"]
    # RestApi adds its own endpoint output; every other key is one of the spec's.
    assert set(outputs) >= OUTPUT_KEYS
    assert {k for k in outputs if not k.startswith("ApiEndpoint")} == OUTPUT_KEYS


def test_outputs_point_at_the_resources(synthesized: Synthesized, env: str) -> None:
    config = synthesized.config(env)
    outputs = {key: value["Value"] for key, value in synthesized.raw(env)["Outputs"].items()}
    main = synthesized.logical_id(
        env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-{spec.MAIN_QUEUE_NAME}"
    )
    dlq = synthesized.logical_id(
        env, "AWS::SQS::Queue", QueueName=f"{config.prefix}-{spec.DLQ_NAME}"
    )
    assert outputs[spec.OUTPUT_MAIN_QUEUE_URL] == {"Ref": main}
    assert outputs[spec.OUTPUT_MAIN_QUEUE_ARN] == {"Fn::GetAtt": [main, "Arn"]}
    assert outputs[spec.OUTPUT_DLQ_URL] == {"Ref": dlq}
    assert outputs[spec.OUTPUT_DLQ_ARN] == {"Fn::GetAtt": [dlq, "Arn"]}
    [table] = synthesized.resources(env, "AWS::DynamoDB::Table")
    assert outputs[spec.OUTPUT_LEDGER_TABLE] == {"Ref": table}
    [parameter] = synthesized.resources(env, "AWS::SSM::Parameter")
    assert outputs[spec.OUTPUT_FAILURE_MODE_PARAMETER] == {"Ref": parameter}
    [topic] = synthesized.resources(env, "AWS::SNS::Topic")
    assert outputs[spec.OUTPUT_ALARM_TOPIC_ARN] == {"Ref": topic}
    [policy] = synthesized.resources(env, "AWS::IAM::ManagedPolicy")
    assert outputs[spec.OUTPUT_OPERATOR_POLICY_ARN] == {"Ref": policy}
    [dashboard] = synthesized.resources(env, "AWS::CloudWatch::Dashboard")
    assert outputs[spec.OUTPUT_DASHBOARD_NAME] == {"Ref": dashboard}
    assert outputs[spec.OUTPUT_API_URL]["Fn::Join"][1][-1] == "/orders"
