"""pxlib.report"""
