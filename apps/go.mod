module example.com/handson/apps

go 1.19
