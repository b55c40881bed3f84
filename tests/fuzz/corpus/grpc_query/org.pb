
91330100MA0YX0016Xeligibility"case-1