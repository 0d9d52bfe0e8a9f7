module example.com/handson/lightweight

go 1.19
