"""The lab: the pipeline on moto's server on 127.0.0.1, to break and fix on a laptop.

Like infra/, the lab provisions and drives AWS-shaped resources, so it talks to boto3
directly; only ever at a loopback endpoint.
"""
