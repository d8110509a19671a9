"""Policy as data (政策参数): parameters by jurisdiction and date (which diagram a place runs —
``<procedure>.process`` —, publicity days, deadlines, monitoring lines), the bindings of procedures to diagram
versions, who may edit policy and how an edit is checked and audited, the schemas of structured values, the
roles and their lanes, the exclusion criteria.

It may use deployed versions (engine.bpmn) but knows no household or case.
"""
