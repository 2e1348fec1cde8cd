"""The notifier: started by systemd through OnFailure=bamon.notify@%N.service.

Short-lived by design (no resident daemon): it runs only when a check failed, records what
systemd saw, and exits.
"""
