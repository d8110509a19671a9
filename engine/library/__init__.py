"""The diagram library (流程图库) of policy editors: deployed versions and where they are used, uploading and
deploying (bound to a jurisdiction from a date when asked), drafts, decision tables, trial runs of a draft
against a scenario, and the domain's rules every diagram is checked against (engine.library.rules).

Nothing below it imports it; it is called by the composition roots and the web.
"""
