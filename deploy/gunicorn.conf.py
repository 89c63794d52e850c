"""gunicorn settings for a Skyddsnät app node (used by deploy/skyddsnat.service)."""

bind = "127.0.0.1:8001"
# Two workers per core is a sane start for a mostly database-bound app; tune with measurements.
workers = 4
threads = 1
timeout = 30
graceful_timeout = 30
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Access logs would hold paths and client addresses only; nginx keeps them already.
accesslog = None
errorlog = "-"
forwarded_allow_ips = "127.0.0.1"
