"""`monitor demo`: a bundled sample stream served on 127.0.0.1, so a newcomer needs no internet."""
