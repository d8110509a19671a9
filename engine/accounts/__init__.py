"""Accounts of officials and other systems (账户): API tokens issued to a user.

It knows no household, case or diagram.
"""
