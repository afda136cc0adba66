"""IAM's evaluation of a resource policy, small enough to read: the tests ask what a
synthesized policy allows, not only which statements it contains.

A request is allowed when an Allow statement matches it and no Deny does: an explicit Deny
wins, and a request nothing matches is implicitly denied. A statement matches when its
principal, action and resource match and every condition holds; within a condition, keys
are ANDed and a key's values ORed, and a key the request lacks fails its condition (no
...IfExists operator is used here). An operator this module does not know raises, so an
evaluation can never pass by ignoring a condition.

`resolve` turns the template's intrinsic functions into the strings CloudFormation would
deploy, for one account, region and partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"


@dataclass(frozen=True)
class Request:
    principal: dict[str, str]  # {"Service": "cloudwatch.amazonaws.com"} or {"AWS": arn}
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


def decide(policy: dict[str, Any], request: Request) -> str:
    """Allow, Deny (an explicit Deny matched) or ImplicitDeny (no Allow matched)."""
    effects = {s["Effect"] for s in _as_list(policy["Statement"]) if _matches(s, request)}
    if DENY in effects:
        return DENY
    return ALLOW if ALLOW in effects else IMPLICIT_DENY


def _matches(statement: dict[str, Any], request: Request) -> bool:
    return (
        _principal_matches(statement["Principal"], request.principal)
        and any(_like(request.action, a, case=False) for a in _as_list(statement["Action"]))
        and any(_like(request.resource, r) for r in _as_list(statement["Resource"]))
        and all(
            _condition_holds(operator, values, request.context)
            for operator, values in statement.get("Condition", {}).items()
        )
    )


def _principal_matches(principal: Any, requester: dict[str, str]) -> bool:
    if principal == "*" or principal == {"AWS": "*"}:
        return True
    for kind, values in principal.items():
        for value in _as_list(values):
            if requester.get(kind) == value:
                return True
            # An account's root ARN stands for every principal of that account.
            root = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", value) if kind == "AWS" else None
            if root and re.match(rf"arn:[^:]+:(iam|sts)::{root[1]}:", requester.get("AWS", "")):
                return True
    return False


CONDITION_OPERATORS = {
    "StringEquals": lambda actual, wanted: actual == wanted,
    "StringLike": lambda actual, wanted: _like(actual, wanted),
    "ArnEquals": lambda actual, wanted: actual == wanted,
    "ArnLike": lambda actual, wanted: _like(actual, wanted),
    "Bool": lambda actual, wanted: actual.lower() == str(wanted).lower(),
}


def _condition_holds(operator: str, values: dict[str, Any], context: dict[str, str]) -> bool:
    if operator not in CONDITION_OPERATORS:
        raise NotImplementedError(f"condition operator {operator} is not evaluated here")
    test = CONDITION_OPERATORS[operator]
    return all(
        key in context and any(test(context[key], wanted) for wanted in _as_list(wanted_values))
        for key, wanted_values in values.items()
    )


def _like(actual: str, pattern: str, *, case: bool = True) -> bool:
    return fnmatchcase(actual, pattern) if case else fnmatchcase(actual.lower(), pattern.lower())


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Deployment:
    """Where a template is deployed: what its pseudo parameters and references become."""

    template: dict[str, Any]
    account: str = "123456789012"
    region: str = "eu-west-1"
    partition: str = "aws"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def resolve(self, value: Any) -> Any:
        """`value` with Ref, Fn::GetAtt (Arn) and Fn::Join resolved, recursively."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise NotImplementedError(f"Fn::GetAtt {attribute}")
            return self._arn_of(logical_id)
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        resource = self.template["Resources"][name]
        if resource["Type"] == "AWS::SNS::Topic":  # a topic's Ref is its ARN
            return self.arn("sns", resource["Properties"]["TopicName"])
        return name

    def _arn_of(self, logical_id: str) -> str:
        resource = self.template["Resources"][logical_id]
        properties = resource.get("Properties", {})
        match resource["Type"]:
            case "AWS::KMS::Key":
                return self.arn("kms", f"key/{logical_id}")
            case "AWS::SQS::Queue":
                return self.arn("sqs", properties["QueueName"])
            case "AWS::CloudWatch::Alarm":
                return self.arn("cloudwatch", f"alarm:{properties['AlarmName']}")
            case other:
                raise NotImplementedError(f"the ARN of a {other}")
