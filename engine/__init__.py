"""The fangpin engine (流程引擎): deploying and running the procedure diagrams with SpiffWorkflow, the domain
records, and the service API that the command line and the web UI call.

Packages, each importing only those below it (checked by ``lint-imports``, contracts in setup.cfg):

    cli > demo > bootstrap | app                                   composition roots
    library | warnings > supervision > cases > publicity
    > identification | elimination > households > policy | accounts > bpmn > core

Only the composition roots (app, bootstrap, demo, cli) wire packages together, and only the command line
imports ``web`` (to serve it); no other module of the engine knows the web.
"""
