"""Timers and deadlines (期限) of fangpin.

``timers.calendar``: the working-day calendar (the only module that classifies dates);
``timers.functions``: deadline functions BPMN diagrams may call;
``timers.cli``: the ``fangpin calendar`` command group.
"""
