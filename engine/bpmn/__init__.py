"""Diagrams (流程图): a BPMN/DMN file as uploaded, parsing and validating it with SpiffWorkflow's spiff parser,
the lint, the restricted script engine, task forms (JSON Schema), decision tables, the trial evaluation with
sample data (部署前试算), storing versions and their specs, and running an instance on the injected clock.

It knows no household, case, role or policy: what a diagram is checked against and the functions its scripts
may call are handed in (engine.bpmn.rules.DiagramRules; the domain's are engine.library.rules). It imports
only engine.core.
"""
