module skepsis.local/porcupine-bench

go 1.16
