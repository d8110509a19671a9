"""Identification (识别纳入): measuring a household's income against the monitoring line and classifying it
by the decision table (监测对象类别). Which identification diagram and decision table a place runs is policy
data (``identification.process`` in policy/parameters.json: processes/identification*.bpmn, which call
processes/household_category*.dmn); the steps themselves are in the diagram.

It knows households, not cases.
"""
