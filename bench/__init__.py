"""`make bench`: how fast the pipeline is, next to what this machine allows.

Every figure is paired with a limit measured in the same run on the same machine (PostgreSQL
commits, the broker's messages and hop, a bare echo service's round trips, the certificate PDF's
pages), because absolute times on shared machines drift. Runs on the embedded stack (PostgreSQL 18
and Apache Kafka, one KRaft node; Tansu with `--broker tansu`) with the services as `giftcert run`
processes, exactly as they run in production; writes one JSON file and one Markdown table, headed
by the run, its broker and the host's load (see `python -m bench --help`)."""
