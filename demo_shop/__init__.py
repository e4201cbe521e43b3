"""A small web shop (login, search, cart, checkout) that the demo data, the tests and the benchmarks run against."""
