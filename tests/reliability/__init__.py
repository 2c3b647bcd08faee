"""Reliability and security evidence: fault matrix, hostile input, secrets, fuzzing, load."""
