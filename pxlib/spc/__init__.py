"""pxlib.spc"""
