"""Households and their records (农户档案): registration with members, income and the formulas of A28–A38,
assistance measures, the read side shared by the ledger, the publicity lists and the information form
(A1–A55), and the monitoring ledger (台账).

It knows no case or diagram: procedures act on households, never the other way round.
"""
