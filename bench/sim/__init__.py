"""A simulated SQS: an in-memory queue service behind a real boto3 client.

service = SqsService()
transport = SimTransport(service, latency_s=0.020)
client = transport.client()          # a boto3 SQS client; requests never leave the process
Dlqctl(clients={"sqs": client}).inspect("orders-dlq")
"""

from bench.sim.service import Queue, SqsError, SqsService
from bench.sim.transport import Faults, SimTransport

__all__ = ["Faults", "Queue", "SimTransport", "SqsError", "SqsService"]
