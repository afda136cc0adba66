"""The main queue and its dead-letter queue, shaped by dlqctl.pipeline.spec."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dlqctl.pipeline import spec
from infra.config import EnvironmentConfig


class Queues(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, key: kms.IKey | None
    ) -> None:
        super().__init__(scope, id)
        self.main_queue_name = f"{config.prefix}-{spec.MAIN_QUEUE_NAME}"
        self.dlq_name = f"{config.prefix}-{spec.DLQ_NAME}"
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        # No key: SSE-KMS with the AWS managed key alias/aws/sqs.
        encryption = sqs.QueueEncryption.KMS if key else sqs.QueueEncryption.KMS_MANAGED
        # The DLQ's RedriveAllowPolicy names the main queue while the main queue's
        # RedrivePolicy names the DLQ: referring to the main queue by the ARN its fixed name
        # gives it, instead of by a reference, keeps CloudFormation free of a cycle.
        main_queue_arn = Stack.of(self).format_arn(service="sqs", resource=self.main_queue_name)
        self.dlq = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=self.dlq_name,
            # Longer than the main queue's: standard queues count retention from the
            # original send, so a message must not expire while it waits for a person.
            retention_period=Duration.seconds(spec.DLQ_RETENTION_S),
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(self, "MainQueueByArn", main_queue_arn)],
            ),
            encryption=encryption,
            encryption_master_key=key,
            enforce_ssl=True,
            removal_policy=removal,
        )
        self.main = sqs.Queue(
            self,
            "MainQueue",
            queue_name=self.main_queue_name,
            visibility_timeout=Duration.seconds(spec.MAIN_QUEUE_VISIBILITY_S),
            retention_period=Duration.seconds(spec.MAIN_QUEUE_RETENTION_S),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=spec.MAX_RECEIVE_COUNT, queue=self.dlq
            ),
            encryption=encryption,
            encryption_master_key=key,
            enforce_ssl=True,
            removal_policy=removal,
        )
