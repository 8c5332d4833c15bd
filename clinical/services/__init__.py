"""The clinical services: assessments, proposing, changing and approving courses."""
