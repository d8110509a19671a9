"""Publicity (公示公告): the publicity lists and announcements printed from the seeds' templates, never
showing ID numbers, phone numbers, bank accounts or health status. The publicity period itself is a diagram
(processes/publicity.bpmn).

It reads households, identification and completed task forms; it does not use the case engine (engine.cases).
"""
