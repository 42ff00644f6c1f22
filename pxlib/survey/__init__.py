"""pxlib.survey"""
