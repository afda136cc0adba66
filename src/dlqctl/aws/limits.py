"""SQS's API limits, importable without botocore: the CLI shows them in `--help`."""

SQS_BATCH_MAX = 10  # entries in one SendMessageBatch / DeleteMessageBatch, messages a receive
