"""Supervision (督导): what is overdue in a jurisdiction, by place, procedure and step, and the 2 % ratio of
unresolved monitored persons (Jiangxi 001 Q40). Read-only but for marking overdue items once.

It reads cases and households; it changes no case.
"""
