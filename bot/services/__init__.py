"""Domain services: plain arguments and a session factory in, plain results out; no Telegram."""
