"""A FICTITIOUS 2027 arrangement in the line format of the 工作日历 form (timers.calendar_years): every festival of
a notice, one adjusted working Sunday. It only exercises the mechanism: it is NOT the real 2027 notice."""

HOLIDAYS_2027 = ("2027-01-01 元旦\n\n2027-02-05~2027-02-13 春节\n2027-04-03~2027-04-05 清明节\n"
                 "2027-05-01~2027-05-05 劳动节\n2027-06-09 端午节\n2027-09-15 中秋节\n2027-10-01~2027-10-07 国庆节\n")
WORKDAYS_2027 = "2027-02-14 春节调休上班\n"
DAYS_OFF_2027 = 27  # 1 + 9 + 3 + 5 + 1 + 1 + 7
# as the form shows the saved year again (one line per run of days, no blank line)
SAVED_HOLIDAYS_2027 = "\n".join(line for line in HOLIDAYS_2027.splitlines() if line)
