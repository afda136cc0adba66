"""dlqctl: look inside SQS dead-letter queues without consuming them, and redrive safely."""

__version__ = "0.1.0"
