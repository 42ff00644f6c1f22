"""pxlib.data"""
