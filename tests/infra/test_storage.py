"""The failure ledger and the GameDay failure-mode parameter."""

from __future__ import annotations

import json

from dlqctl.pipeline import spec
from tests.infra.conftest import Synthesized


def test_ledger_is_on_demand_with_ttl_and_point_in_time_recovery(
    synthesized: Synthesized, env: str
) -> None:
    prefix = synthesized.config(env).prefix
    synthesized.template(env).has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": f"{prefix}-{spec.LEDGER_TABLE_NAME}",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": spec.LEDGER_KEY, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": spec.LEDGER_KEY, "AttributeType": "S"}],
            "TimeToLiveSpecification": {"AttributeName": spec.LEDGER_EXPIRES_AT, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_ledger_encryption_and_retention_follow_the_environment(
    synthesized: Synthesized, env: str
) -> None:
    [table] = synthesized.resources(env, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    if synthesized.config(env).customer_managed_keys:
        assert properties["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": synthesized.key_arn(env),
        }
        assert properties["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
    else:
        # The AWS managed key (alias/aws/dynamodb): KMS, no key of the stack's own.
        assert properties["SSESpecification"] == {"SSEEnabled": True}
        assert properties.get("DeletionProtectionEnabled", False) is False
        assert table["DeletionPolicy"] == "Delete"


def test_failure_mode_parameter_starts_switched_off(synthesized: Synthesized, env: str) -> None:
    prefix = synthesized.config(env).prefix
    synthesized.template(env).has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": f"/{prefix}{spec.FAILURE_MODE_PARAMETER}",
            "Type": "String",
            "Value": "none",
            "Tier": "Standard",
        },
    )
    assert "none" in spec.FAILURE_MODES


def test_the_stack_key_rotates_and_its_policy_grants_services_only_for_this_account(
    synthesized: Synthesized, env: str
) -> None:
    """Rotation, and every service principal the key policy names is held to this
    account (the confused-deputy guard); what CloudWatch may do with the key is evaluated
    in test_observability."""
    [key] = synthesized.resources(env, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    services = [s for s in statements if "Service" in s["Principal"]]
    assert services, "CloudWatch needs the key for the alarm topic"
    logs = [s for s in services if "logs." in json.dumps(s["Principal"])]
    for statement in services:
        if statement in logs:
            continue
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {
            "Ref": "AWS::AccountId"
        }
        assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]
    # CloudWatch Logs, in prod only (the data key): for this stack's log groups, named in
    # the encryption context of this account and region, as the Logs documentation scopes it.
    assert len(logs) == (1 if env == "prod" else 0)
    for statement in logs:
        scoped = json.dumps(statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
        assert "AWS::AccountId" in scoped and "log-group:/aws/lambda/" in scoped
        assert "log-group:/aws/apigateway/" in scoped and "*:*" not in scoped
