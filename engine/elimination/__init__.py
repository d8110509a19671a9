"""elimination"""
