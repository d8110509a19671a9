"""Department warnings (行业预警, 000 §6): the departments' thresholds and push deadlines (policy data), taking in
a batch, and what the warning procedures' diagrams (processes/warning_*.bpmn) do through their functions — the
city's split, the county's comparison and dispatch, the township's home verification (which starts an
identification case or marks key attention), the pushes and monthly reports as cases per period — with the
ledger and the report as queries.

It opens and completes cases through engine.cases; its diagram functions are installed there by the composition
roots. It knows nothing of the diagram library.
"""
