"""Audio files: reading their facts, tags, lyrics and covers, writing them (the demo and tests), and
scanning a music folder (scan.py, above the rest: it matches songs as the catalogue import does)."""
