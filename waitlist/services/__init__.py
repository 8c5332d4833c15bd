"""The waitlist's services: joining and leaving (`entries`), the matcher that offers freed slots
(`matching`), and the answers to an offer (`offers`)."""
