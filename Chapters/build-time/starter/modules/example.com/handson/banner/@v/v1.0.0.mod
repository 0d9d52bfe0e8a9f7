module example.com/handson/banner

go 1.19
