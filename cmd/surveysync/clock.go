package main

import "time"

// timeNow is the commands' clock.
var timeNow = time.Now
