"""Risk elimination (风险消除): whether a monitored household meets the conditions of eliminating its risk,
condition by condition and explained (the procedure is processes/elimination*.bpmn).

It knows households, not cases.
"""
