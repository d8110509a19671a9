"""Department warnings (行业预警, 000 §6): the departments' thresholds and push deadlines (policy data), taking in
a batch, the city's push, the county's comparison and dispatch, the township's home verification (which
starts an identification case), the ledger and the monthly report.

It opens cases (engine.cases); it knows nothing of the diagram library.
"""
