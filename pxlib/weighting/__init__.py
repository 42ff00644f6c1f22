"""pxlib.weighting"""
