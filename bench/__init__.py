"""`make bench`: how fast the pipeline is, next to what this machine allows.

Every figure is paired with a limit measured in the same run on the same machine (PostgreSQL
commits, broker round trips, PDF pages), because absolute times on shared machines drift. Runs on
the embedded stack (PostgreSQL 18 and Tansu) with the services as `giftcert run` processes, exactly
as they run in production; writes one JSON file and one Markdown table (see `python -m bench --help`)."""
