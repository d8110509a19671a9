"""The yearly campaign (年度信息采集和集中排查, 004 一(一)(二), 000 §七(三)): a township's campaign case for the year
opens one collection-and-screening case per household of its villages; the campaign's window, moment and deadlines
are policy data. It opens cases through engine.cases; its diagram functions are installed there by the composition
roots."""
