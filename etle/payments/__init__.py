"""Payments: the code a violator pays with, and the bank's word that it was paid.

After the owner answers a notice, the case gets one payment: a virtual-account number with a
check digit (`codes.py`) and the amount (the violation's deposit, in whole rupiah, fixed when the
code is issued). The bank calls back (`callback.py`: HMAC-signed, timestamped, a request id used
once) and `service.record_bank_payment` marks the case paid through the lifecycle, once per bank
transaction id. The receipt PDF is rendered by `notices.receipt` and kept by hash.
"""
