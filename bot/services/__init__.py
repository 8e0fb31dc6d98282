"""Business rules on plain values; nothing here imports `telegram` or holds SQL."""
