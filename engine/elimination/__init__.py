"""Risk elimination (风险消除): whether a monitored household meets the conditions of eliminating its risk,
condition by condition and explained (the procedure is processes/elimination*.bpmn). The conditions themselves
are a decision table, ``elimination_conditions`` (processes/elimination_conditions.dmn), named by each elimination
diagram's recheck step and deployed with it; this package computes the facts the table reads and explains its answer.

It knows households, not cases.
"""
