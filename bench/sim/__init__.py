"""A simulated SQS: an in-memory queue service behind a real boto3 client.

service = SqsService()
transport = SimTransport(service, latency_s=0.020)
client = transport.client()          # a boto3 SQS client; requests never leave the process
Dlqctl(clients={"sqs": client}).inspect("orders-dlq")

FIFO queues are created as SQS creates them (a .fifo name and FifoQueue=true), and seeded
with a group per message: service.seed("orders.fifo", 10_000, Seed(..., group=lambda i:
f"customer-{i % 50}"), sent_ms=...). Queue.contents() lists what a queue holds, in order.
"""

from bench.sim.service import FifoQueue, Queue, Seed, SqsError, SqsService, Stored
from bench.sim.transport import Faults, SimTransport

__all__ = [
    "Faults",
    "FifoQueue",
    "Queue",
    "Seed",
    "SimTransport",
    "SqsError",
    "SqsService",
    "Stored",
]
