"""The policy evaluator the alarm-delivery tests rely on: it must deny what IAM denies, in
particular the policy that made every alarm notification fail (a Deny and no Allow)."""

from __future__ import annotations

import pytest

from tests.infra.policy_eval import ALLOW, DENY, IMPLICIT_DENY, Deployment, Request, decide

TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"
ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"
OTHER_LISTED_ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:b"
UNLISTED_ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:c"
TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
CLOUDWATCH_MAY_PUBLISH = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": [ALARM, OTHER_LISTED_ALARM]},
    },
}


def publish(*, source_arn: str = ALARM, account: str = "123456789012", tls: bool = True) -> Request:
    return Request(
        principal={"Service": "cloudwatch.amazonaws.com"},
        action="SNS:Publish",
        resource=TOPIC,
        context={
            "aws:SourceAccount": account,
            "aws:SourceArn": source_arn,
            "aws:SecureTransport": str(tls).lower(),
        },
    )


def test_a_deny_only_policy_allows_nothing() -> None:
    """CDK's enforce_ssl topic policy alone: CloudWatch may not publish at all."""
    assert decide({"Statement": [TLS_ONLY]}, publish()) == IMPLICIT_DENY


def test_allow_holds_only_when_every_condition_does_and_deny_wins() -> None:
    policy = {"Statement": [TLS_ONLY, CLOUDWATCH_MAY_PUBLISH]}
    assert decide(policy, publish()) == ALLOW
    assert decide(policy, publish(source_arn=OTHER_LISTED_ALARM)) == ALLOW
    assert decide(policy, publish(source_arn=UNLISTED_ALARM)) == IMPLICIT_DENY
    assert decide(policy, publish(account="210987654321")) == IMPLICIT_DENY
    assert decide(policy, publish(tls=False)) == DENY
    no_context = Request({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish", TOPIC)
    assert decide(policy, no_context) == IMPLICIT_DENY, "a missing key fails its condition"
    stranger = Request({"AWS": "arn:aws:iam::210987654321:user/x"}, "sns:Publish", TOPIC)
    assert decide(policy, stranger) == IMPLICIT_DENY


def test_an_unknown_condition_operator_is_never_ignored() -> None:
    statement = {**CLOUDWATCH_MAY_PUBLISH, "Condition": {"IpAddress": {"aws:SourceIp": "1/8"}}}
    with pytest.raises(NotImplementedError, match="IpAddress"):
        decide({"Statement": [statement]}, publish())


def test_references_resolve_for_the_deployment() -> None:
    template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alarms"}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": "a"}},
        }
    }
    china = Deployment(template, region="cn-north-1", partition="aws-cn")
    assert china.resolve({"Ref": "Topic"}) == "arn:aws-cn:sns:cn-north-1:123456789012:alarms"
    assert china.resolve({"Fn::GetAtt": ["Alarm", "Arn"]}).endswith(":alarm:a")
    joined = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":x:", {"Ref": "AWS::Region"}]]}
    assert china.resolve(joined) == "arn:aws-cn:x:cn-north-1"
