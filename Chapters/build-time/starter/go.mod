module example.com/handson/apps

go 1.19

require example.com/handson/banner v1.0.0
