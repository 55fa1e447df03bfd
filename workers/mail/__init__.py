"""E-mail delivery: the transport-independent message, and transports (SendGrid, files)."""
